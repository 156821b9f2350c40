(define (problem plan_pick_two_obj_and_place-Pillow-None-ArmChair-livingroom1)
(:domain alfred)
(:objects
agent1 - agent
        ButterKnifeType - otype
        CreditCardType - otype
        KeyChainType - otype
        KnifeType - otype
        LaptopType - otype
        NewspaperType - otype
        PillowType - otype
        RemoteControlType - otype
        StatueType - otype
        TissueBoxType - otype
        ArmChairType - rtype
        CoffeeTableType - rtype
        DrawerType - rtype
        DresserType - rtype
        FridgeType - rtype
        GarbageCanType - rtype
        MicrowaveType - rtype
        OttomanType - rtype
        SideTableType - rtype
        SinkBasinType - rtype
        SofaType - rtype
        TVStandType - rtype
        Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 - object
        RemoteControl_bar__plus_09_dot_20_bar__plus_00_dot_90_bar__plus_07_dot_53 - object
        Newspaper_bar__plus_09_dot_13_bar__plus_00_dot_95_bar__plus_07_dot_96 - object
        Pillow_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39 - object
        Laptop_bar__plus_09_dot_54_bar__plus_00_dot_90_bar__plus_08_dot_82 - object
        KeyChain_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25 - object
        TissueBox_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68 - object
        CreditCard_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11 - object
        Statue_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54 - object
        Sofa_bar__plus_00_dot_44_bar__plus_00_dot_90_bar__minus_01_dot_50 - receptacle
        ArmChair_bar__plus_01_dot_25_bar__plus_00_dot_95_bar__minus_01_dot_07 - receptacle
        Ottoman_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 - receptacle
        CoffeeTable_bar__plus_02_dot_32_bar__plus_00_dot_90_bar__minus_00_dot_21 - receptacle
        SideTable_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 - receptacle
        TVStand_bar__plus_02_dot_62_bar__plus_01_dot_00_bar__plus_00_dot_65 - receptacle
        Drawer_bar__plus_02_dot_88_bar__plus_00_dot_90_bar__plus_01_dot_08 - receptacle
        GarbageCan_bar__plus_03_dot_69_bar__plus_00_dot_95_bar__plus_01_dot_51 - receptacle
        Dresser_bar__plus_03_dot_73_bar__plus_01_dot_00_bar__plus_01_dot_94 - receptacle
        loc_bar_0_bar_6_bar_3_bar__minus_15 - location
        loc_bar_0_bar__minus_4_bar_0_bar__minus_30 - location
        loc_bar_1_bar__minus_1_bar_1_bar__minus_15 - location
        loc_bar_1_bar__minus_2_bar_0_bar_0 - location
        loc_bar_2_bar_2_bar_2_bar_0 - location
        loc_bar_3_bar_5_bar_3_bar_15 - location
        loc_bar_4_bar__minus_3_bar_0_bar_30 - location
        loc_bar_5_bar_0_bar_1_bar_45 - location
        loc_bar_6_bar_3_bar_2_bar__minus_30 - location
        loc_bar__minus_1_bar_5_bar_0_bar_30 - location
        )

(:init

        (receptacleType Sofa_bar__plus_00_dot_44_bar__plus_00_dot_90_bar__minus_01_dot_50 SofaType)
        (receptacleType ArmChair_bar__plus_01_dot_25_bar__plus_00_dot_95_bar__minus_01_dot_07 ArmChairType)
        (receptacleType Ottoman_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 OttomanType)
        (receptacleType CoffeeTable_bar__plus_02_dot_32_bar__plus_00_dot_90_bar__minus_00_dot_21 CoffeeTableType)
        (receptacleType SideTable_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 SideTableType)
        (receptacleType TVStand_bar__plus_02_dot_62_bar__plus_01_dot_00_bar__plus_00_dot_65 TVStandType)
        (receptacleType Drawer_bar__plus_02_dot_88_bar__plus_00_dot_90_bar__plus_01_dot_08 DrawerType)
        (receptacleType GarbageCan_bar__plus_03_dot_69_bar__plus_00_dot_95_bar__plus_01_dot_51 GarbageCanType)
        (receptacleType Dresser_bar__plus_03_dot_73_bar__plus_01_dot_00_bar__plus_01_dot_94 DresserType)
        (objectType Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 PillowType)
        (objectType RemoteControl_bar__plus_09_dot_20_bar__plus_00_dot_90_bar__plus_07_dot_53 RemoteControlType)
        (objectType Newspaper_bar__plus_09_dot_13_bar__plus_00_dot_95_bar__plus_07_dot_96 NewspaperType)
        (objectType Pillow_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39 PillowType)
        (objectType Laptop_bar__plus_09_dot_54_bar__plus_00_dot_90_bar__plus_08_dot_82 LaptopType)
        (objectType KeyChain_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25 KeyChainType)
        (objectType TissueBox_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68 TissueBoxType)
        (objectType CreditCard_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11 CreditCardType)
        (objectType Statue_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54 StatueType)
        (canContain ArmChairType CreditCardType)
        (canContain ArmChairType KeyChainType)
        (canContain ArmChairType LaptopType)
        (canContain ArmChairType NewspaperType)
        (canContain ArmChairType PillowType)
        (canContain ArmChairType RemoteControlType)
        (canContain CoffeeTableType CreditCardType)
        (canContain CoffeeTableType KeyChainType)
        (canContain CoffeeTableType LaptopType)
        (canContain CoffeeTableType NewspaperType)
        (canContain CoffeeTableType RemoteControlType)
        (canContain CoffeeTableType StatueType)
        (canContain CoffeeTableType TissueBoxType)
        (canContain DrawerType CreditCardType)
        (canContain DrawerType KeyChainType)
        (canContain DrawerType NewspaperType)
        (canContain DrawerType RemoteControlType)
        (canContain DrawerType TissueBoxType)
        (canContain DresserType CreditCardType)
        (canContain DresserType KeyChainType)
        (canContain DresserType LaptopType)
        (canContain DresserType NewspaperType)
        (canContain DresserType RemoteControlType)
        (canContain DresserType StatueType)
        (canContain DresserType TissueBoxType)
        (canContain GarbageCanType NewspaperType)
        (canContain GarbageCanType TissueBoxType)
        (canContain OttomanType CreditCardType)
        (canContain OttomanType KeyChainType)
        (canContain OttomanType LaptopType)
        (canContain OttomanType NewspaperType)
        (canContain OttomanType PillowType)
        (canContain OttomanType RemoteControlType)
        (canContain SideTableType CreditCardType)
        (canContain SideTableType KeyChainType)
        (canContain SideTableType LaptopType)
        (canContain SideTableType NewspaperType)
        (canContain SideTableType RemoteControlType)
        (canContain SideTableType StatueType)
        (canContain SideTableType TissueBoxType)
        (canContain SofaType CreditCardType)
        (canContain SofaType KeyChainType)
        (canContain SofaType LaptopType)
        (canContain SofaType NewspaperType)
        (canContain SofaType PillowType)
        (canContain SofaType RemoteControlType)
        (canContain TVStandType TissueBoxType)
        (pickupable Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (pickupable RemoteControl_bar__plus_09_dot_20_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (pickupable Newspaper_bar__plus_09_dot_13_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (pickupable Pillow_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (pickupable Laptop_bar__plus_09_dot_54_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (pickupable KeyChain_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (pickupable TissueBox_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (pickupable CreditCard_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (pickupable Statue_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (openable Drawer_bar__plus_02_dot_88_bar__plus_00_dot_90_bar__plus_01_dot_08)
        (atLocation agent1 loc_bar__minus_1_bar_5_bar_0_bar_30)
        (inReceptacle Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 Sofa_bar__plus_00_dot_44_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle RemoteControl_bar__plus_09_dot_20_bar__plus_00_dot_90_bar__plus_07_dot_53 Sofa_bar__plus_00_dot_44_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle Newspaper_bar__plus_09_dot_13_bar__plus_00_dot_95_bar__plus_07_dot_96 ArmChair_bar__plus_01_dot_25_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle Pillow_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39 Ottoman_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (inReceptacle Laptop_bar__plus_09_dot_54_bar__plus_00_dot_90_bar__plus_08_dot_82 CoffeeTable_bar__plus_02_dot_32_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (inReceptacle KeyChain_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25 SideTable_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (inReceptacle TissueBox_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68 TVStand_bar__plus_02_dot_62_bar__plus_01_dot_00_bar__plus_00_dot_65)
        (inReceptacle CreditCard_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11 Drawer_bar__plus_02_dot_88_bar__plus_00_dot_90_bar__plus_01_dot_08)
        (inReceptacle Statue_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54 Dresser_bar__plus_03_dot_73_bar__plus_01_dot_00_bar__plus_01_dot_94)
        (receptacleAtLocation Sofa_bar__plus_00_dot_44_bar__plus_00_dot_90_bar__minus_01_dot_50 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (receptacleAtLocation ArmChair_bar__plus_01_dot_25_bar__plus_00_dot_95_bar__minus_01_dot_07 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (receptacleAtLocation Ottoman_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 loc_bar_2_bar_2_bar_2_bar_0)
        (receptacleAtLocation CoffeeTable_bar__plus_02_dot_32_bar__plus_00_dot_90_bar__minus_00_dot_21 loc_bar_3_bar_5_bar_3_bar_15)
        (receptacleAtLocation SideTable_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (receptacleAtLocation TVStand_bar__plus_02_dot_62_bar__plus_01_dot_00_bar__plus_00_dot_65 loc_bar_5_bar_0_bar_1_bar_45)
        (receptacleAtLocation Drawer_bar__plus_02_dot_88_bar__plus_00_dot_90_bar__plus_01_dot_08 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (receptacleAtLocation GarbageCan_bar__plus_03_dot_69_bar__plus_00_dot_95_bar__plus_01_dot_51 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (receptacleAtLocation Dresser_bar__plus_03_dot_73_bar__plus_01_dot_00_bar__plus_01_dot_94 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (objectAtLocation Pillow_bar__plus_08_dot_06_bar__plus_01_dot_00_bar__plus_07_dot_10 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation RemoteControl_bar__plus_09_dot_20_bar__plus_00_dot_90_bar__plus_07_dot_53 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation Newspaper_bar__plus_09_dot_13_bar__plus_00_dot_95_bar__plus_07_dot_96 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation Pillow_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39 loc_bar_2_bar_2_bar_2_bar_0)
        (objectAtLocation Laptop_bar__plus_09_dot_54_bar__plus_00_dot_90_bar__plus_08_dot_82 loc_bar_3_bar_5_bar_3_bar_15)
        (objectAtLocation KeyChain_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (objectAtLocation TissueBox_bar__plus_10_dot_61_bar__plus_01_dot_00_bar__plus_09_dot_68 loc_bar_5_bar_0_bar_1_bar_45)
        (objectAtLocation CreditCard_bar__plus_11_dot_09_bar__plus_00_dot_90_bar__plus_10_dot_11 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (objectAtLocation Statue_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54 loc_bar_1_bar__minus_2_bar_0_bar_0)
        )

                (:goal
                    (and
                        (exists (?r - receptacle)
                            (exists (?o1 - object)
                                (and
                                    (objectType ?o1 PillowType)
                                    (receptacleType ?r ArmChairType)
                                    (inReceptacle ?o1 ?r)
                                    (exists (?o2 - object)
                                        (and
                                            (not (= ?o1 ?o2))
                                            (objectType ?o2 PillowType)
                                            (receptacleType ?r ArmChairType)
                                            (inReceptacle ?o2 ?r)
                                        )
                                    )
                                )
                            )
                        )
                    )
                )
            )
